"""One module per ``vfio-deck`` sub-command, imported only when that command runs."""
