from ladder.main import main

raise SystemExit(main())
