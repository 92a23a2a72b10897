"""Encrypted, verified backups of the whole service: database, files and keys."""
