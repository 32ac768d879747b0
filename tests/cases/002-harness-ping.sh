#!/bin/bash
# Two guests on one virtual Ethernet link reach each other over IPv4 and IPv6.
# topology: two
# impl-a: none
# impl-b: none
# timeout: 60
. "$TESTS/lib/guest-lib.sh"

tap_plan 5
tap_check "$IFACE is up with $MY_IP and $MY_IP6" sh -c "ip addr show dev $IFACE | grep -q 'state UP' && ip addr show dev $IFACE | grep -q 'inet $MY_IP/' && ip addr show dev $IFACE | grep -q 'inet6 $MY_IP6/'"
got=$(peer_sync up "$MY_IP")
if [ "$got" = "$PEER_IP" ]; then
	tap_ok "rendezvous with the peer ($got)"
else
	tap_not_ok "rendezvous with the peer" "got '$got', expected '$PEER_IP'"
fi
tap_check "ping $PEER_IP" ping -c 3 -i 0.2 -W 3 "$PEER_IP"
tap_check "ping $PEER_IP6" ping -6 -c 3 -i 0.2 -W 3 "$PEER_IP6"
# Neither guest powers off while the other may still be pinging it.
tap_check "both guests finished" peer_sync end
tap_done
