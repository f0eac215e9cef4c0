"""`python -m bot` is the same as the `ukkbot` command."""

from bot.cli import main

raise SystemExit(main())
