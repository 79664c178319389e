-- the blocked User-Agent words: the variable BLOCKED_AGENTS (00-vars.lua, written by
-- nfluactl apply from the policy and the inventory); load after ../http_ua.lua
return http_ua.configure(BLOCKED_AGENTS)
