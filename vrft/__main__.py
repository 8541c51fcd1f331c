"""`python -m vrft ...` (and `torchrun -m vrft ...`) runs the CLI."""

from vrft.cli import main

if __name__ == "__main__":
    main()
