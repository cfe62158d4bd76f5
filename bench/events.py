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
