"""Development tooling (load generators, posters): never imported by the product code."""
