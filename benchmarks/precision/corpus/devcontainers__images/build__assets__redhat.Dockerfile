ARG VARIANT=""
FROM REPLACE-ME

# ** [Optional] Uncomment this line to install additional packages. **
# RUN yum -y install <your-package-list-here>
