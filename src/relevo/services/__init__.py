"""Services: the citizen-facing decision services Relevo manages, declared in spec files."""
