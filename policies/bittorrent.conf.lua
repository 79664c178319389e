-- which BitTorrent detectors are on; load after bittorrent.lua
return bittorrent.configure{ handshake = true, dht = true, tracker = true }
