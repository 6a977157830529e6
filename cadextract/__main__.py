from cadextract.cli import main

main()
