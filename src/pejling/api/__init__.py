"""The versioned JSON API (``/api/v1/``) and personal API tokens."""
