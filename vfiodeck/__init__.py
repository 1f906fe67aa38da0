"""VFIO Deck. The sources live in the top-level folders core/, gui/ and resources/; the links
beside this file let every tool (pip, mypy, IDEs, pytest) resolve ``vfiodeck.*`` from a checkout."""
