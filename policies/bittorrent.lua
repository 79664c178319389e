-- bittorrent.lua: detect BitTorrent by its protocol messages, not by ports.
--
-- Match function: bittorrent_match(pkt) -> true for
--   handshake: a TCP payload starting with the peer-wire handshake, byte 19 then
--              "BitTorrent protocol" (BEP 3), at least the 20 bytes of that prefix;
--   dht:       a UDP payload that is a bencoded KRPC message of the Mainline DHT (BEP 5):
--              a dictionary "d1:..." holding "1:y1:q", "1:y1:r" or "1:y1:e", a transaction id
--              "1:t" and ending in "e";
--   tracker:   an HTTP GET of "/announce?" or "/scrape?" with an "info_hash=" parameter (BEP 3
--              HTTP trackers); UDP trackers (BEP 15) send a connect request: 16 bytes with the
--              protocol id 0x41727101980 and action 0.
-- Each detector can be switched off:
--   bittorrent.configure{ handshake = true, dht = true, tracker = false }
-- Encrypted peer connections (MSE/PE) look random and are not detected.
-- Rule: iptables -A FORWARD -m lua --state p2p --function bittorrent_match -j DROP
--       (add --tcp-payload on a TCP-only rule)

bittorrent = bittorrent or { handshake = true, dht = true, tracker = true }

function bittorrent.configure(opts)
	for _, k in ipairs({ "handshake", "dht", "tracker" }) do
		if opts[k] ~= nil then
			bittorrent[k] = opts[k] and true or false
		end
	end
	return true
end

local HANDSHAKE = "\19BitTorrent protocol"
local UDP_TRACKER = "\0\0\4\23\39\16\25\128\0\0\0\0"

local function is_dht(s)
	if #s < 12 or #s > 1500 or s:sub(1, 3) ~= "d1:" or s:sub(-1) ~= "e" then
		return false
	end
	if not s:find("1:t", 1, true) then
		return false
	end
	return s:find("1:y1:[qre]") ~= nil
end

local function is_tracker_http(s)
	local target = s:match("^GET (/[%w%./_-]*%?[^ \r\n]*) HTTP/1%.[01]\r\n")
	if not target then
		return false
	end
	local path = target:match("^[^?]*")
	if not (path:find("/announce$") or path:find("/scrape$") or path:find("/announce%.php$")) then
		return false
	end
	return target:find("[?&]info_hash=") ~= nil
end

function bittorrent_match(pkt)
	local proto = pkt.protocol
	if proto == 6 then
		if pkt.payloadlen < 20 then
			return false
		end
		local s = pkt:payload(1, 2048)
		if bittorrent.handshake and s:sub(1, 20) == HANDSHAKE then
			return true
		end
		return bittorrent.tracker and is_tracker_http(s)
	elseif proto == 17 then
		local s = pkt:payload(1, 1500)
		if bittorrent.dht and is_dht(s) then
			return true
		end
		return bittorrent.tracker and #s == 16 and s:sub(1, 12) == UDP_TRACKER
	end
	return false
end
