from maskaudit.cli import main

main()
