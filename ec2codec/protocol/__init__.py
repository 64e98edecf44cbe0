"""The protocol layer: the sans-I/O wire formats of the EC2 Query protocol.

Owns request encoding (:mod:`.query`, compiled by :mod:`._querycompile`, with
the scalar and timestamp rules of :mod:`._scalars` and :mod:`._time`), its
inverse for servers (:mod:`.query_decode`), response parsing (:mod:`.xml`,
compiled plans in :mod:`._xmlplan`, hostile-input defences and limits in
:mod:`._xmlsafety`), response writing for servers (:mod:`.xml_encode`,
:mod:`._xmlwrite`) and the public :class:`~ec2codec.protocol.codec.Model`
facade (:mod:`.codec`).

May import: :mod:`ec2codec.errors`, :mod:`ec2codec.model`, and lxml (only the
XML modules). It never performs I/O, reads the clock or imports requests.
"""
