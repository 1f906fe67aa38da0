"""Icons (SVG). A package of its own so that setuptools ships it as data without a warning."""
