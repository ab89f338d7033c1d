"""Development tooling (load generators, posters, harnesses that check the project): never
imported by the product code, not part of what it ships."""
