"""Development tooling: harnesses that check the project, not part of what it ships."""
