from strongroom.command import main

main()
