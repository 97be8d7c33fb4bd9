<?php
/**
 * A Feedback Loops receiver in plain PHP: place this file on your server and point a loop at its URL.
 *
 * It checks that each POST really comes from Feedback Loops (the Standard Webhooks signature, made
 * with the loop's secret), answers at once, then handles the event. Give it the loop's secret, shown
 * when the loop is created or its secret rotated, in the environment (e.g. `SetEnv` in Apache,
 * `env[...]` in a PHP-FPM pool, or `fastcgi_param` in nginx):
 *
 *   FEEDBACK_LOOPS_SECRET=whsec_… php -S 127.0.0.1:8080 -t examples/receivers
 */

declare(strict_types=1);

// A request signed more than this long ago (or ahead) is refused: a captured request cannot be replayed later.
const TOLERANCE_SECONDS = 5 * 60;

/**
 * A request header, by name in any case. PHP hands request headers over in $_SERVER as HTTP_<NAME>,
 * upper-cased, whatever case the sender used. (Not getallheaders(): its keys keep the sender's case,
 * which is how the official Standard Webhooks PHP library misses `Webhook-Id` sent as `webhook-id`.)
 */
function request_header(string $name): ?string
{
    $value = $_SERVER['HTTP_' . strtoupper(str_replace('-', '_', $name))] ?? null;
    return is_string($value) && $value !== '' ? $value : null;
}

function refuse(int $status, string $reason): never
{
    error_log("feedback-loops: refused ($status): $reason");
    http_response_code($status);
    exit;
}

/**
 * Whether one of the signatures is ours: HMAC-SHA256 of "<id>.<timestamp>.<raw body>" with the key,
 * which is the base64-decoded part of the secret after `whsec_`.
 */
function signature_matches(string $secret, string $id, string $timestamp, string $body, string $header): bool
{
    $key = base64_decode(str_starts_with($secret, 'whsec_') ? substr($secret, 6) : $secret, true);
    $expected = base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", (string) $key, true));
    // During a secret rotation the header carries one signature per secret, space-separated: one
    // match is enough. hash_equals takes the same time however much matches, so timing tells nothing.
    foreach (explode(' ', $header) as $entry) {
        [$version, $signature] = array_pad(explode(',', $entry, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $signature)) {
            return true;
        }
    }
    return false;
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    refuse(405, 'only POST');
}
$secret = getenv('FEEDBACK_LOOPS_SECRET');
if (!is_string($secret) || $secret === '') {
    refuse(500, 'FEEDBACK_LOOPS_SECRET is not set');
}

// The signature covers the body exactly as it was sent, so it is checked on the raw body.
$body = (string) file_get_contents('php://input');
$id = request_header('webhook-id');
$timestamp = request_header('webhook-timestamp');
$signatures = request_header('webhook-signature');
if ($id === null || $timestamp === null || $signatures === null) {
    refuse(400, 'webhook-id, webhook-timestamp or webhook-signature missing');
}
if (!ctype_digit($timestamp) || abs(time() - (int) $timestamp) > TOLERANCE_SECONDS) {
    refuse(401, 'webhook-timestamp is not within 5 minutes of now');
}
if (!signature_matches($secret, $id, $timestamp, $body, $signatures)) {
    refuse(401, 'no matching signature');
}

// Verified. A form body (the default format) is already in $_POST, fields and tags as arrays; every
// value is a string there: booleans arrive as "1" / "0", so `if ($event['fields']['vip'])` works.
// A JSON body keeps its types.
$isJson = str_starts_with($_SERVER['CONTENT_TYPE'] ?? '', 'application/json');
$event = $isJson ? json_decode($body, true) : $_POST;
if (!is_array($event)) {
    refuse(400, 'the body is not an event');
}

// Answer first, work afterwards: Feedback Loops waits at most 10 seconds for a 2xx, and otherwise
// sends the event again later (with the same webhook-id, so a repeat can be recognised).
http_response_code(204);
if (function_exists('fastcgi_finish_request')) {
    fastcgi_finish_request(); // PHP-FPM: the answer goes out now.
}

// Your work goes here: update the profile, count the open, unsubscribe the address…
error_log(sprintf(
    'verified %s %s %s %s',
    $event['type'] ?? '?',
    $event['id'] ?? '?',
    $event['recipient'] ?? '-',
    json_encode($event, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)
));
