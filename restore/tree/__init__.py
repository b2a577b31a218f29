"""Reading a WindowsImageBackup tree: the layout around the images and what the images hold."""
