from pytunes.cli import main

raise SystemExit(main())
