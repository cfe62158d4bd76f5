"""The naive reference handler the benchmarks compare against (never deployed).

What a first version usually looks like: Chalice + pydantic, boto3 clients made at import
time, one PutItem and one Publish inside the request.
"""
import json
import os
import uuid
from datetime import datetime, timezone

import boto3
from chalice import Chalice
from pydantic import BaseModel, EmailStr

dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")
app = Chalice(app_name="naive")


class Form(BaseModel):
    first_name: str
    last_name: str
    email: EmailStr
    phone: str
    location: str
    contact_consent: bool
    message: str = ""


@app.route("/appointments", methods=["POST"])
def create_appointment():
    form = Form(**app.current_request.json_body)
    request_id = uuid.uuid4().hex
    item = {"pk": {"S": f"APPT#{request_id}"}, "sk": {"S": "APPT"},
            "created_at": {"S": datetime.now(timezone.utc).isoformat()}, "body": {"S": form.model_dump_json()}}
    dynamodb.put_item(TableName=os.environ["APPOINTMENTS_TABLE"], Item=item)
    sns.publish(TopicArn=os.environ["NOTIFY_TOPIC_ARN"], Subject="New appointment request",
                Message=json.dumps(form.model_dump()))
    return {"id": request_id, "status": "received"}
