"""The protocol layer: the sans-I/O wire formats of the EC2 Query protocol and awsQuery.

Owns request encoding (:mod:`.query`, compiled by :mod:`._querycompile`, with
the scalar and timestamp rules of :mod:`._scalars` and :mod:`._time`), its
inverse for servers (:mod:`.query_decode`), response parsing (:mod:`.xml`,
compiled plans in :mod:`._xmlplan`, hostile-input defences and limits in
:mod:`._xmlsafety`), response writing for servers (:mod:`.xml_encode`,
:mod:`._xmlwrite`) and the public :class:`~ec2codec.protocol.codec.Model`
facade (:mod:`.codec`). awsQuery (``query``-protocol models such as STS)
reuses all of it; its differences live in :mod:`._awsquerycompile` (request
keys), :mod:`._awsquerydecode` (their inverse), :mod:`._awsqueryxml` and
:mod:`._awsquerywrite` (the response and error documents), with the member
naming rule both share in :mod:`._names`.

May import: :mod:`ec2codec.errors`, :mod:`ec2codec.model`, and lxml (only the
XML modules). It never performs I/O, reads the clock or imports requests.
"""
