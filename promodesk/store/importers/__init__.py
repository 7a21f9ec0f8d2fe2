"""Importers for saved exports. Kept light on purpose: the dispatcher and the parsers (pydantic,
ijson, defusedxml) load only when something is imported, not when the window starts."""
