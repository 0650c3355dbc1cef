"""`python -m commands ...` runs the CLI from a source checkout (same as `loyalist ...`)."""

from commands.launch import main

main()
