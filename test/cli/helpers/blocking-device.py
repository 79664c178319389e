# A stand-in device whose reads block, like /dev/nflua while a `receive` waits: a pseudo-terminal
# in raw mode. Writes to its slave side are drained here; nothing is ever written back. Prints
# the slave's path, then serves until stdin closes; on exit prints how many processes still
# held the slave open ("holders N"), which must be 0 once the receive was interrupted.
import os, sys, tty, select

master, slave = os.openpty()
tty.setraw(slave)
path = os.ttyname(slave)
os.close(slave)
print(path, flush=True)
while True:
    r, _, _ = select.select([master, sys.stdin], [], [])
    if master in r:
        try:
            os.read(master, 65536)
        except OSError:
            pass
    if sys.stdin in r:
        if not os.read(sys.stdin.fileno(), 1):
            break
holders = 0
for pid in os.listdir('/proc'):
    if not pid.isdigit():
        continue
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            if os.readlink(f'/proc/{pid}/fd/{fd}') == path:
                holders += 1
    except OSError:
        pass
print(f'holders {holders}', flush=True)
