"""Queries over the tables; every user-owned query takes the owner's id."""
