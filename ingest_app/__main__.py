from ingest_app.cli import main

raise SystemExit(main())
