"""A small org.freedesktop.Notifications service for the tests (jeepney, on whatever session bus
DBUS_SESSION_BUS_ADDRESS names): prints {"ready": ...} once it owns the name, then one JSON line per
``Notify`` call with its arguments and the signature they came in, and answers as a daemon does.

    python -m tests.notify_service
"""

from __future__ import annotations

import json
import sys

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
INTROSPECTION = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>"""


def main() -> None:
    conn = open_dbus_connection(bus="SESSION")
    owned = conn.send_and_get_reply(message_bus.RequestName(NAME, 4)).body[0]
    print(json.dumps({"ready": owned == 1}), flush=True)
    count = 0
    while True:
        try:
            msg = conn.receive()
        except ConnectionError:
            return
        if msg.header.message_type is not MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        signature = msg.header.fields.get(HeaderFields.signature, "")
        if member == "Notify":
            if signature != "susssasa{sv}i":  # as GLib's daemons do: the wrong types are refused
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs", "s", (signature,)))
                print(json.dumps({"refused": signature}), flush=True)
                continue
            count += 1
            app, _replaces, _icon, summary, body, _actions, hints, timeout = msg.body
            print(
                json.dumps(
                    {"app": app, "summary": summary, "body": body, "hints": sorted(hints), "timeout": timeout}
                ),
                flush=True,
            )
            conn.send(new_method_return(msg, "u", (count,)))
        elif member == "GetServerInformation":
            conn.send(new_method_return(msg, "ssss", ("test-notifyd", "market-monitor tests", "1.0", "1.2")))
        elif member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (["body"],)))
        elif member == "Introspect":
            conn.send(new_method_return(msg, "s", (INTROSPECTION,)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),)))


if __name__ == "__main__":
    sys.exit(main())
