"""Braze Currents warehouse: land Currents in DuckDB, model it with dbt, export to Braze."""

__version__ = "0.1.0"
