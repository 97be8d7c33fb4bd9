<?php
// One SOAP call through PHP's SoapClient in WSDL mode, as the tests make it:
//   php soap-call.php <wsdl-url> <key or ""> <operation> <parameters as JSON>
// Prints {"result": …} or {"fault": {"code", "string", "detail"}} as JSON.
[, $wsdl, $key, $operation, $parameters] = $argv;
$client = new SoapClient($wsdl, [
    'cache_wsdl' => WSDL_CACHE_NONE,
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
    'exceptions' => true,
]);
if ($key !== '') {
    $client->__setSoapHeaders(new SoapHeader('urn:feedback-loops:soap:v1', 'Authentication', ['accessToken' => $key]));
}
try {
    $result = $client->__soapCall($operation, [json_decode($parameters, true)]);
    echo json_encode(['result' => $result], JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_SLASHES);
} catch (SoapFault $fault) {
    echo json_encode(['fault' => [
        'code' => $fault->faultcode,
        'string' => $fault->faultstring,
        'detail' => $fault->detail ?? null,
    ]], JSON_UNESCAPED_SLASHES);
}
