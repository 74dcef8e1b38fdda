from headshot.cli import main

main()
