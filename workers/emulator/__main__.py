from workers.emulator.cli import main

raise SystemExit(main())
