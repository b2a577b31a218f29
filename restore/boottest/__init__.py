"""Boot a recovery point's system disk under QEMU, read-only, and say how far it got (`bmr boot-test`)."""
