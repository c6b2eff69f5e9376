-- Runs the SYN-flood range profile for a fixed time and prints the rates.
--
--   pktgen ... -- -P -m "[1:2].0" -f scripts/pktgen/run-syn-flood.lua
--
-- SYNFLOOD_SECONDS (environment, default 10) sets the duration. The profile is
-- loaded from the same directory (syn-flood.pkt). Compare the SYNs sent here
-- with synmill's counters: synmill-ctl --file-prefix <synmill's> stats
-- (syn_in, synack_out, cookies_sent).
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local seconds = tonumber(os.getenv("SYNFLOOD_SECONDS") or "10")

pktgen.screen("off")
pktgen.load(here .. "syn-flood.pkt")
pktgen.clr()
pktgen.delay(500)

local before = pktgen.portStats("0", "port")[0]
pktgen.start("0")
pktgen.delay(seconds * 1000)
pktgen.stop("0")
pktgen.delay(500)
local after = pktgen.portStats("0", "port")[0]

local sent = after["opackets"] - before["opackets"]
local received = after["ipackets"] - before["ipackets"]
printf("syn-flood: %d s, SYN sent %d (%.0f/s), packets received %d (%.0f/s: SYN-ACKs), tx errors %d\n",
       seconds, sent, sent / seconds, received, received / seconds, after["oerrors"] - before["oerrors"])
pktgen.quit()
