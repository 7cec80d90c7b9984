"""The sandbox: a simulated SaaS company served through each vendor's real wire format.

The generator (`simulation`) writes canonical records (`domain`) into a world store
(`store`); each vendor module renders them into that vendor's own objects at write time, and
the HTTP server (`server`) serves those objects with the vendor's paths, paging, auth, rate
limits and injected faults. Connectors cannot tell it from production: only base URLs differ.
"""
