from wssviz.cli import main

raise SystemExit(main())
