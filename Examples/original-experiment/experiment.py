# The original experiment's script ("Gateway API for Trino, Part 5"; ../shared/reference/original-experiment.md in
# flap's notes), with its indentation restored and nothing else changed but what the lines marked `# flap:` say:
# the article's hosts and port 80 become the lab's (a mapping from its host names), and its waits are parameters
# whose defaults are the article's (30 s, 30 s, 10 s). The logic, the calls and the printed lines are the article's.
import os  # flap: for the parameters below
import trino
import time
import threading
from kubernetes import client, config
import requests
import statistics
from trino.dbapi import connect
import kubernetes.client
import subprocess
import time
from kubernetes.client.rest import ApiException

# flap: where the article's host names are served, and its waits
ADDRESSES = {  # flap
    "trino-legacy.example.com": (os.environ.get("FLAP_INGRESS_HOST", "trino-legacy.example.com"), os.environ.get("FLAP_INGRESS_PORT", "80")),  # flap
    "trino.example.com": (os.environ.get("FLAP_GATEWAY_HOST", "trino.example.com"), os.environ.get("FLAP_GATEWAY_PORT", "80")),  # flap
}  # flap
SETTLE_SECONDS = float(os.environ.get("FLAP_SETTLE_SECONDS", "30"))  # flap
IN_FLIGHT_SECONDS = float(os.environ.get("FLAP_IN_FLIGHT_SECONDS", "30"))  # flap
CONFLICT_SECONDS = float(os.environ.get("FLAP_CONFLICT_SECONDS", "10"))  # flap

config = config.load_kube_config()
custom_api = client.CustomObjectsApi()
networking = client.NetworkingV1Api(config)


def configureConnection(host):
    conn = connect(
        host=ADDRESSES[host][0],  # flap: was host=host,
        port=ADDRESSES[host][1],  # flap: was port="80",
        user="admin",
        catalog="tpch",
        schema="sf1",
        request_timeout=60.0
    )
    cur = conn.cursor()
    return cur


def executeQuery(host, i):
    start_time = time.time()
    try:
        query = """
SELECT
nation,
o_year,
sum(amount) AS sum_profit
FROM
(
SELECT
n_name AS nation,
extract(YEAR FROM o_orderdate) AS o_year,
l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity AS amount
FROM
part,
supplier,
lineitem,
partsupp,
orders,
nation
WHERE
s_suppkey = l_suppkey
AND ps_suppkey = l_suppkey
AND ps_partkey = l_partkey
AND p_partkey = l_partkey
AND o_orderkey = l_orderkey
AND s_nationkey = n_nationkey
AND p_name LIKE '%green%'
) AS profit
GROUP BY
nation,
o_year
ORDER BY
nation,
o_year DESC;
"""
        cursor = configureConnection(host)
        cursor.execute(query)
        rows = cursor.fetchall()
        end_time = time.time()
        print(f"SUCCESS: In-flight query: {i} survived! (Took {end_time - start_time:.2f}s)")
        test_results.append(True)
    except Exception as e:
        fail_time = time.time()
        print(f"FAILURE: Query:{i} severed at {fail_time - start_time:.2f}s. Error: {e}")
        test_results.append(False)


def delete_ingress():
    try:
        api_response = networking.delete_namespaced_ingress(
            name="minimal-ingress",
            namespace="default",
            body=client.V1DeleteOptions(
                propagation_policy='Foreground',
                grace_period_seconds=5
            )
        )
        print("deleting ingress")
        return api_response
    except Exception as e:
        pass


def create_Ingress():
    bash_code = """
kubectl apply -f dummyingress.yaml
"""
    subprocess.run(bash_code, shell=True)


def add_route():
    ## finish this portion of this
    #api_instance = kubernetes.client.CustomObjectsApi(config)
    group = "gateway.networking.k8s.io"
    version = "v1"
    plural = "httproutes"
    name = 'trino-api-route'
    namespace = "gateway-system"
    while True:
        try:
            route = custom_api.get_namespaced_custom_object(
                group, version, namespace, plural, name
            )
            backends = route['spec']['rules'][0].get('backendRefs', [])
            if not any(backend.get('name') == 'trino-worker-service' for backend in backends):
                backends.append({"name": "trino-worker-service", "port": 8081, "kind": "Service"})
                #dry_run = ''
                #field_manager = ''
                #field_validation = ''
                #force = True
                api_response = custom_api.patch_namespaced_custom_object(group, version, namespace, plural, name, body=route)
                #print(api_response)
                return api_response
            else:
                print("Backend still exists meaning the delete didn't work")
        except ApiException as e:
            if e.status == 409:
                print(f"Exception when calling Doing Add operation CustomObjectsApi: {e}")
                time.sleep(CONFLICT_SECONDS)  # flap: was time.sleep(10)
            else: raise e


def delete_route():
    ## finish this portion of this
    #api_instance = kubernetes.client.CustomObjectsApi(config)
    group = "gateway.networking.k8s.io"
    version = "v1"
    plural = "httproutes"
    name = 'trino-api-route'
    namespace = "gateway-system"
    while True:
        try:
            current_route = custom_api.get_namespaced_custom_object(
                group, version, namespace, plural, name
            )
            current_list = current_route['spec']['rules'][0].get('backendRefs', [])
            new_list = []
            for backend in current_list:
                if backend.get('name') != 'trino-worker-service':
                    new_list.append(backend)
            current_route['spec']['rules'][0]['backendRefs'] = new_list
            body = current_route
            #dry_run = ''
            #field_manager = ''
            #field_validation = ''
            #force = True
            api_response = custom_api.patch_namespaced_custom_object(group, version, namespace, plural, name, body)
            return api_response
        except ApiException as e:
            if e.status == 409:
                #retry_count += 1
                print(f"Exception when doing delete operation: {e}")
                time.sleep(CONFLICT_SECONDS)  # flap: was time.sleep(10)
            else:
                print(f"Exception when doing delete operation: {e}")


def Ingress_Stability():
    #Point the query at the Ingress endpoint
    global test_results
    test_results = []
    for i in range(10):
        create_Ingress()
        time.sleep(SETTLE_SECONDS)  # flap: was time.sleep(30)
        thread = threading.Thread(target=executeQuery, args=("trino-legacy.example.com", i))
        thread.start()
        time.sleep(IN_FLIGHT_SECONDS)  # flap: was time.sleep(30)
        print(f"Starting Flap iteration: {i+1}")
        delete_ingress()
        thread.join()
    success = test_results.count(True)
    print(f"final results - Success:{success}/{len(test_results)}")


def Gateway_Stability():
    #Point the query at the Gateway API endpoint
    global test_results
    test_results = []
    for i in range(10):
        add_route()
        time.sleep(SETTLE_SECONDS)  # flap: was time.sleep(30)
        thread = threading.Thread(target=executeQuery, args=("trino.example.com", i))
        thread.start()
        time.sleep(IN_FLIGHT_SECONDS)  # flap: was time.sleep(30)
        print(f"Starting Flap iteration: {i+1}")
        #add_route()
        delete_route()
        thread.join()
    success = test_results.count(True)
    print(f"final results - Success:{success}/{len(test_results)}")


def main():
    print("--- Starting Gateway Stability Test ---")
    Gateway_Stability()
    print("\n--- Starting Ingress Stability Test ---")
    Ingress_Stability()


if __name__ == "__main__":
    main()
