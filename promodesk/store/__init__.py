"""The local workspace: one SQLite file per workspace."""

# Here rather than in store.workspace so the window can name the file type without loading
# SQLite at start-up.
WORKSPACE_SUFFIX = ".promodesk"
