<?php
// Feedback Loops tracking URLs, made offline (docs/tracking.md): the open pixel without $url, a click with it.
function b64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

function tracking_url(string $base, string $accountId, string $keyId, string $secret, string $message, ?string $url = null): string
{
    $parts = $url === null ? [$keyId, $accountId, $message] : [$keyId, $accountId, $message, $url];
    $payload = implode("\0", $parts);
    $signature = substr(hash_hmac('sha256', $payload, $secret, true), 0, 16);
    return rtrim($base, '/') . ($url === null ? '/t/o/' : '/t/c/') . b64url($payload) . '.' . b64url($signature);
}

// php tracking-url.php <message> [<link> …] with TRACKING_BASE, TRACKING_ACCOUNT, TRACKING_KEY_ID, TRACKING_SECRET set
if (PHP_SAPI === 'cli' && realpath($argv[0]) === __FILE__) {
    [$base, $account, $keyId, $secret] = array_map('getenv', ['TRACKING_BASE', 'TRACKING_ACCOUNT', 'TRACKING_KEY_ID', 'TRACKING_SECRET']);
    echo tracking_url($base, $account, $keyId, $secret, $argv[1]), "\n";
    foreach (array_slice($argv, 2) as $link) {
        echo tracking_url($base, $account, $keyId, $secret, $argv[1], $link), "\n";
    }
}
