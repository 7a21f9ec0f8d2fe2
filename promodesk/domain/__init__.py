"""Vendor-neutral vocabulary: enums, value parsing and record shapes. No I/O here."""
