#!/usr/bin/env python3
"""hostile-bundles.py DIR: tar bundles that `nfluactl apply -` must refuse before it touches
anything (o20-apply.sh), made on the host: busybox tar in the guest cannot write such entries.
Each has a valid etc/config/nflua first, so only the hostile entry is wrong."""
import io
import sys
import tarfile

CONFIG = b"config state 'web'\n\tlist script '/etc/nflua/apply/web/20-list.lua'\n"


def bundle(path, extra):
    with tarfile.open(path, 'w', format=tarfile.USTAR_FORMAT) as t:
        def add(name, data=b'', kind=tarfile.REGTYPE, link='', size=None):
            i = tarfile.TarInfo(name)
            i.type = kind
            i.linkname = link
            i.size = len(data) if size is None else size
            i.mode = 0o644
            t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add('etc/config/nflua', CONFIG)
        add('etc/nflua/apply/web/20-list.lua', b'return 1\n')
        extra(add)


out = sys.argv[1]
cases = {
    'dotdot': lambda add: add('../evil', b'x'),
    'dotdot-inside': lambda add: add('etc/nflua/apply/web/../../../../tmp/evil', b'x'),
    'absolute': lambda add: add('/tmp/evil', b'x'),
    'symlink': lambda add: add('etc/nflua/apply/web/30-link.lua', kind=tarfile.SYMTYPE, link='/etc/shadow'),
    'hardlink': lambda add: add('etc/nflua/apply/web/30-hard.lua', kind=tarfile.LNKTYPE, link='etc/config/nflua'),
    'device': lambda add: add('etc/nflua/apply/web/30-dev.lua', kind=tarfile.CHRTYPE),
    'fifo': lambda add: add('etc/nflua/apply/web/30-fifo.lua', kind=tarfile.FIFOTYPE),
    'other-prefix': lambda add: add('etc/passwd', b'root::0:0::/:/bin/sh\n'),
    'big-file': lambda add: add('etc/nflua/apply/web/30-big.lua', b'-' * 3000000),
    'space-name': lambda add: add('etc/nflua/apply/web/30 x.lua', b'x'),
}
for name, extra in cases.items():
    bundle(f'{out}/{name}.tar', extra)
# not a tar stream at all
with open(f'{out}/garbage.tar', 'wb') as f:
    f.write(b'this is not a tar archive\n' * 100)
