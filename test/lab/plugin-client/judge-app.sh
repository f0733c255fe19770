#!/bin/sh
# A shell client of the v6lab Appium plugin (issue 17): plain HTTP with curl, no WebdriverIO, as
# a Java or Python suite's own client would drive it. Opens a session on the handset, reads its
# network, captures around the app's launch and gets the app's judgement, then ends the session.
# Each reply is written to OUT_DIR as the server sent it.
#
#   judge-app.sh APPIUM_URL SERIAL ADB_PORT PACKAGE OUT_DIR
set -eu
url=$1 serial=$2 adb_port=$3 package=$4 out=$5

post() { curl -sS --max-time 60 -X POST -H 'content-type: application/json' -d "$2" "$url$1"; }
execute() { post "/session/$session/execute/sync" "{\"script\":\"$1\",\"args\":[$2]}"; }

caps="{\"platformName\":\"Android\",\"appium:automationName\":\"V6labVirtual\",\"appium:udid\":\"$serial\",\"appium:adbPort\":$adb_port}"
post /session "{\"capabilities\":{\"alwaysMatch\":$caps}}" > "$out/session.json"
session=$(sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p' "$out/session.json")
[ -n "$session" ] || { echo "judge-app.sh: no session: $(cat "$out/session.json")" >&2; exit 1; }

execute 'v6lab: observeNetwork' '' > "$out/network.json"
execute 'v6lab: startCapture' "{\"package\":\"$package\",\"name\":\"shell-client\"}" > "$out/start.json"
post "/session/$session/appium/device/activate_app" "{\"appId\":\"$package\"}" > "$out/activate.json"
# The app's first page loads within a second or two; a client waits as its own test would.
sleep 4
execute 'v6lab: stopCapture' '' > "$out/judgement.json"
curl -sS --max-time 60 -X DELETE "$url/session/$session" > "$out/delete.json"
