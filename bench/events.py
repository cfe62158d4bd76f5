"""An API Gateway (REST, proxy) event as Lambda hands it to Chalice."""
import json


def api_event(unique):
    body = json.dumps({
        "first_name": "Bench", "last_name": "Mark", "email": "bench.mark@example.com",
        "phone": "212-555-0142", "location": "downtown", "contact_consent": True,
        "message": f"benchmark {unique}",
    })
    headers = {"content-type": "application/json", "accept": "application/json"}
    return {
        "resource": "/appointments", "path": "/appointments", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": "/appointments", "httpMethod": "POST", "requestId": unique,
                           "stage": "api", "path": "/api/appointments", "identity": {"sourceIp": "203.0.113.9"}},
        "body": body, "isBase64Encoded": False,
    }


def sign_in_event(unique, email, origin="http://127.0.0.1:8000"):
    """POST /staff/sign-in from the inbox's own sign-in page: ask for a code for `email`."""
    from urllib.parse import urlencode

    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html", "origin": origin}
    return {
        "resource": "/staff/sign-in", "path": "/staff/sign-in", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": "/staff/sign-in", "httpMethod": "POST", "requestId": unique,
                           "stage": "api", "path": "/api/staff/sign-in", "identity": {"sourceIp": "203.0.113.9"}},
        "body": urlencode({"email": email}), "isBase64Encoded": False,
    }


def page_event(unique):
    """GET / from a browser: the form page, in English."""
    headers = {"accept": "text/html", "accept-language": "en"}
    return {
        "resource": "/", "path": "/", "httpMethod": "GET",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": "/", "httpMethod": "GET", "requestId": unique,
                           "stage": "api", "path": "/api/", "identity": {"sourceIp": "203.0.113.9"}},
        "body": None, "isBase64Encoded": False,
    }
