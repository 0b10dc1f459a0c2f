# nbgrader configuration for the book's assignments: this folder is the course directory.
#   cd assignments
#   nbgrader generate_assignment ps1-descent     # -> release/ps1-descent/ (student version), gradebook.db
#   nbgrader autograde ps1-descent               # grades submitted/<student>/ps1-descent/
# `make assignments` (scripts/make_assignments.py) makes the same student notebooks without a gradebook.
c = get_config()  # noqa: F821 (defined by nbgrader when it loads this file)

c.CourseDirectory.course_id = "optimization-book"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]

# The stub that replaces each solution region (nbgrader's default, stated here so the tests can rely on it).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading runs every notebook top to bottom; each takes a few seconds.
c.Execute.timeout = 120
c.Execute.kernel_name = "python3"
