#!/bin/bash
# Our rdma_rxe as a device: rdma link add/delete, identity, port state and
# MTU following the netdev, RoCEv2 GIDs from the core's cache (VLANs too),
# refusals (duplicate, VLAN base), several devices, netdev removal, autoload
# through the rdma-link-rxe alias, clean unload.
# topology: one
# impl: ours
# timeout: 150
. "$TESTS/lib/guest-lib.sh"

tap_plan 26

devinfo() { ibv_devinfo -v -d "${1:-rxe0}" 2>&1; }
field() { devinfo "$1" | awk -v k="$2:" '$1 == k { print $2; exit }'; }
wait_gone() {
	local i
	for i in $(seq 50); do
		[ -e "/sys/class/infiniband/$1" ] || return 0
		sleep 0.1
	done
	return 1
}
wait_field() { # DEV KEY VALUE
	local i
	for i in $(seq 50); do
		[ "$(field "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	echo "$2 is '$(field "$1" "$2")', expected '$3'"
	return 1
}
has_gid() { # DEV GID: one grep over the whole table (1024 entries)
	grep -qx "$2" /sys/class/infiniband/"$1"/ports/1/gids/* 2>/dev/null
}
eui64() { # MAC -> node GUID as sysfs prints it (xxxx:xxxx:xxxx:xxxx)
	local IFS=: m
	read -ra m <<< "$1"
	printf '%02x%s:%sff:fe%s:%s%s\n' $((0x${m[0]} ^ 2)) "${m[1]}" "${m[2]}" \
		"${m[3]}" "${m[4]}" "${m[5]}"
}

tap_check "load our rdma_rxe" rxe_load
tap_check "module alias rdma-link-rxe" sh -c 'modinfo -F alias rdma_rxe | grep -qx rdma-link-rxe'
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "ibv_devices lists rxe0" sh -c 'ibv_devices | awk "NR > 2 { print \$1 }" | grep -qx rxe0'
tap_check "driver id is rxe (librxe bound it: transport InfiniBand, Ethernet link)" \
	sh -c "ibv_devinfo -d rxe0 | grep -q 'link_layer:.*Ethernet'"
tap_check "fw_ver tells us apart from stock (0.0.0)" \
	sh -c "v=\$(ibv_devinfo -d rxe0 | awk '\$1 == \"fw_ver:\" { print \$2 }'); echo \"fw_ver \$v\"; [ -n \"\$v\" ] && [ \"\$v\" != 0.0.0 ]"
tap_check "sysfs fw_ver names rxe-odp" grep -q '^rxe-odp ' /sys/class/infiniband/rxe0/fw_ver
tap_check "uverbs ABI version 2" sh -c 'grep -qx 2 /sys/class/infiniband/rxe0/device/../infiniband_verbs/*/abi_version 2>/dev/null || grep -qx 2 /sys/class/infiniband_verbs/uverbs*/abi_version'
mac=$(cat "/sys/class/net/$IFACE/address")
tap_check "node GUID is the EUI-64 of $mac" \
	sh -c "g=\$(cat /sys/class/infiniband/rxe0/node_guid); e=$(eui64 "$mac"); echo \"guid \$g expected \$e\"; [ \"\$g\" = \"\$e\" ]"
tap_check "parent is $IFACE" grep -qx "$IFACE" /sys/class/infiniband/rxe0/parent
tap_check "port ACTIVE with the link up" wait_field rxe0 state PORT_ACTIVE
tap_check "RoCEv2 GID for $MY_IP" has_gid rxe0 "$(gid_of "$MY_IP")"
tap_check "active MTU 1024 at netdev MTU 1500" wait_field rxe0 active_mtu "1024"
ip link set "$IFACE" mtu 9000
tap_check "active MTU 4096 at netdev MTU 9000" wait_field rxe0 active_mtu "4096"
ip link set "$IFACE" mtu 1500
hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
tap_check "hw_counters has the stock names" sh -c "for c in sent_pkts rcvd_pkts duplicate_request out_of_seq_request rcvd_rnr_err send_rnr_err rcvd_seq_err ack_deferred retry_exceeded_err retry_rnr_exceeded_err completer_retry_err send_err link_downed rdma_sends rdma_recvs; do [ -r $hc/\$c ] || { echo missing \$c; exit 1; }; done"
downs=$(cat $hc/link_downed)
ip link set "$IFACE" down
tap_check "port DOWN with the netdev down" wait_field rxe0 state PORT_DOWN
ip link set "$IFACE" up
tap_check "port ACTIVE again" wait_field rxe0 state PORT_ACTIVE
tap_check "link_downed counted the outage" sh -c "n=\$(cat $hc/link_downed); echo \"link_downed $downs -> \$n\"; [ \$n -eq $((downs + 1)) ]"

out=$(rdma link add rxe9 type rxe netdev "$IFACE" 2>&1)
tap_check "second add on $IFACE refused (File exists)" sh -c "echo '$out'; ! [ -e /sys/class/infiniband/rxe9 ] && echo '$out' | grep -qi 'exists'"

modprobe 8021q
ip link add link "$IFACE" name "$IFACE.7" type vlan id 7
ip addr add 10.77.0.1/24 dev "$IFACE.7"
ip link set "$IFACE.7" up
out=$(rdma link add rxev type rxe netdev "$IFACE.7" 2>&1)
tap_check "add on a VLAN device refused" sh -c "echo '$out'; ! [ -e /sys/class/infiniband/rxev ]"
wait_dev_gid() { # DEV GID: up to 5 s
	local i
	for i in $(seq 50); do
		has_gid "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}
tap_check "the VLAN's address is a GID of rxe0" wait_dev_gid rxe0 "$(gid_of 10.77.0.1)"
ip link del "$IFACE.7"

# The second netdev: a dummy, or a veth pair on a kernel without the dummy
# driver (the debug kernel of make check-debug).
if ! { modprobe -q dummy 2>/dev/null && ip link add rxedummy0 type dummy; }; then
	tap_diag "no dummy netdev here; a veth pair instead"
	ip link add rxedummy0 type veth peer name rxedummy1 && ip link set rxedummy1 up
fi
ip link set rxedummy0 up
tap_check "a second device on another netdev" rxe_add rxe1 rxedummy0
tap_check "both devices coexist" sh -c '[ "$(ibv_devices | awk "NR > 2 { print \$1 }" | sort | tr "\n" " ")" = "rxe0 rxe1 " ]'
ip link del rxedummy0
tap_check "removing the netdev removes its device" wait_gone rxe1

tap_check "rdma link delete rxe0" sh -c 'rdma link delete rxe0 && for i in $(seq 50); do [ -e /sys/class/infiniband/rxe0 ] || exit 0; sleep 0.1; done; exit 1'
tap_check "unload, then 'rdma link add' autoloads ours; unload clean" sh -c '
	rxe() { :; }
	modprobe -r rdma_rxe || exit 1
	[ ! -d /sys/module/rdma_rxe ] || { echo still loaded; exit 1; }
	rdma link add rxe0 type rxe netdev '"$IFACE"' || exit 1
	grep -q "^rxe-odp " /sys/class/infiniband/rxe0/fw_ver || { echo "not ours"; exit 1; }
	rdma link delete rxe0 && modprobe -r rdma_rxe && [ ! -d /sys/module/rdma_rxe ]'
tap_done
