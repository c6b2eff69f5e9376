-- Runs the SYN-flood range profile (syn-flood.pkt, same directory) for a fixed
-- time, prints what pktgen sent and received, and quits pktgen: also when a
-- step fails, so an unattended run always ends.
--
--   pktgen --lcores 1@1,2@1 --no-pci --no-huge -m 2048 --file-prefix pg \
--          --vdev=net_memif0,role=client,socket=/tmp/synmill.sock,mac=02:00:00:00:00:01,rsize=14 \
--          -- -P -m "[2].0" -f scripts/pktgen/run-syn-flood.lua
--
-- (pktgen needs a terminal: run it under `script -qfc '...' /dev/null` or tmux.)
-- SYNFLOOD_SECONDS (environment, default 10) sets the sending time. Uses only
-- the `pktgen` table pktgen itself provides; nothing from pktgen's source tree.
-- Compare with synmill's counters: synmill-ctl --file-prefix <synmill's> stats
-- (syn_in, synack_out, cookies_sent).

local function say(fmt, ...)
  io.write(string.format(fmt, ...))
  io.flush()
end

-- pktgen refreshes the port counters that portStats returns once a second
-- (its timer reads rte_eth_stats_get into curr_stats): wait longer than that
-- before reading them, or the last second is missing.
local kRefreshMs = 1500

local function port0()
  return pktgen.portStats("0", "port")[0]
end

local function run()
  local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
  local seconds = tonumber(os.getenv("SYNFLOOD_SECONDS") or "10")
  if seconds == nil or seconds <= 0 or seconds > 3600 then
    error("SYNFLOOD_SECONDS must be a number of seconds in (0, 3600]")
  end

  pktgen.screen("off")
  pktgen.load(here .. "syn-flood.pkt")
  pktgen.clr()
  pktgen.delay(kRefreshMs)

  local before = port0()
  pktgen.start("0")
  pktgen.delay(math.floor(seconds * 1000))
  pktgen.stop("0")
  pktgen.delay(kRefreshMs)
  local after = port0()

  local sent = after.opackets - before.opackets
  local received = after.ipackets - before.ipackets
  say("syn-flood: %g s, SYNs sent %d (%.0f/s), packets received %d (%.0f/s: SYN-ACKs), "
      .. "tx errors %d, rx missed %d, rx no mbuf %d\n",
      seconds, sent, sent / seconds, received, received / seconds,
      after.oerrors - before.oerrors, after.imissed - before.imissed,
      after.rx_nombuf - before.rx_nombuf)
end

local ok, err = pcall(run)
if not ok then
  say("syn-flood: failed: %s\n", tostring(err))
end
pktgen.quit()
