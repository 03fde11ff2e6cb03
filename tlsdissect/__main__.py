from tlsdissect.cli import run

run()
