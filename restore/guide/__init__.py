"""What winre renders, gathered from the tree, the share and the options: command lines, runbooks, versions."""
