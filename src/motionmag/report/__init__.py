"""What a reader looks at: paper-style tables, plots, x-t slices and side-by-side videos."""
