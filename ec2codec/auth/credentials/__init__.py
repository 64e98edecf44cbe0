"""Credential, region and configuration resolution, in the AWS CLI's order.

:mod:`.base` holds the provider type and the errors, :mod:`.chain` the chain
itself, :mod:`.profiles` the shared config and credentials files,
:mod:`.config` the other settings (CA bundle, retries, endpoints), and one
module per source: :mod:`.assume_role`, :mod:`.web_identity`, :mod:`.sso`,
:mod:`.process`, :mod:`.metadata` (container and IMDS). :mod:`.sts` makes the
STS calls, :mod:`.cache` keeps their answers where the AWS CLI does,
:mod:`._endpoints` and :mod:`._http` find and reach STS, SSO and OIDC.

May import: :mod:`ec2codec.errors`, :mod:`ec2codec.model` (partition data),
:mod:`ec2codec.protocol` (timestamps, the STS model's codec) and the rest of
:mod:`ec2codec.auth`; network calls use ``http.client``, never requests.
"""
