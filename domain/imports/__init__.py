"""Excel imports: the template, checking and reading uploaded files, and the background import."""
